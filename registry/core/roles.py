"""The four roles a user acts in: every area gates its pages and scopes its rows by them."""
import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    COUNTY = "county"
    AGENCY = "agency"
    INSTITUTION = "institution"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    "admin": "市人社局管理员",
    "county": "县区人社部门",
    "agency": "评价机构",
    "institution": "培训机构",
}
