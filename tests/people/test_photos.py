"""Holder photos: JPEG/PNG within size and pixel limits, metadata gone, audited, shown to few roles."""
import io

import pytest
import sqlalchemy as sa
from PIL import Image, PngImagePlugin

from registry.core.roles import Role
from registry.assessment.operations import record_result
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.people.photos import MAX_BYTES, PersonPhoto, current_photo, photo_data, upload_photo

ORIENTATION, MAKE, GPS_INFO = 0x0112, 0x010F, 0x8825


def jpeg(width: int = 300, height: int = 400, exif: Image.Exif | None = None, colour: str = "navy") -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(output, "JPEG", exif=exif or Image.Exif())
    return output.getvalue()


def png(width: int = 300, height: int = 400, mode: str = "RGBA", text: dict | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    output = io.BytesIO()
    colour = (10, 20, 30, 0) if mode == "RGBA" else "grey"
    Image.new(mode, (width, height), colour).save(output, "PNG", pnginfo=info)
    return output.getvalue()


def other_format(name: str) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (300, 400), "red").save(output, name)
    return output.getvalue()


def truncated_jpeg() -> bytes:
    """A photo cut off mid-transfer: the header reads, the pixels do not."""
    output = io.BytesIO()
    Image.effect_noise((300, 400), 60).convert("RGB").save(output, "JPEG")
    return output.getvalue()[: len(output.getvalue()) // 2]


TRUNCATED = truncated_jpeg()


def exif_with_secrets(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "SecretPhone"
    exif.get_ifd(GPS_INFO)[2] = (34.0, 47.0, 51.0)  # latitude: where the photo was taken
    return exif


def audit_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.entity_type == "person_photo"))


def photo_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(PersonPhoto.id)))


@pytest.fixture
def person(make_person):
    return make_person(name="张三明")


# --- validation and cleaning ------------------------------------------------------------------------------

def test_a_jpeg_is_stored_without_exif_and_upright(person):
    raw = jpeg(300, 400, exif_with_secrets(orientation=6))  # 6: the camera was turned; show it rotated
    assert b"SecretPhone" in raw
    photo = upload_photo(None, person, raw)
    db.session.commit()
    stored = Image.open(io.BytesIO(photo.data))
    assert (stored.format, photo.content_type) == ("JPEG", "image/jpeg")
    assert (stored.width, stored.height) == (photo.width, photo.height) == (400, 300)
    assert len(stored.getexif()) == 0 and "exif" not in stored.info and "icc_profile" not in stored.info
    assert b"SecretPhone" not in photo.data and b"Exif" not in photo.data
    assert current_photo(person.id).id == photo.id and photo_data(photo.sha256) == photo.data


def test_a_png_loses_its_text_chunks_and_transparency(person):
    photo = upload_photo(None, person, png(text={"Author": "某某", "Comment": "GPS 34.78,114.30"}))
    stored = Image.open(io.BytesIO(photo.data))
    assert (stored.format, stored.mode, photo.content_type) == ("PNG", "RGB", "image/png")
    assert not {"Author", "Comment"} & set(stored.info) and b"GPS" not in photo.data
    assert stored.getpixel((0, 0)) == (255, 255, 255)  # transparent pixels land on white paper


def test_an_upload_is_audited(person):
    photo = upload_photo(None, person, jpeg())
    db.session.commit()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "person_photo"))
    assert (event.action, event.entity_id) == ("create", str(photo.id))
    assert event.after["person_id"] == person.id and event.after["sha256"] == photo.sha256


def test_the_newest_photo_is_the_current_one(person):
    upload_photo(None, person, jpeg(colour="navy"))
    newer = upload_photo(None, person, jpeg(colour="maroon"))
    db.session.commit()
    assert current_photo(person.id).id == newer.id


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "请选择要上传的照片文件"),
    (b"hello, not an image", "文件不是 JPEG 或 PNG 图片"),
    (b"%PDF-1.4 a pdf", "文件不是 JPEG 或 PNG 图片"),
    (other_format("GIF"), "只接受 JPEG 或 PNG 格式，上传的是 GIF"),
    (other_format("BMP"), "只接受 JPEG 或 PNG 格式，上传的是 BMP"),
    (jpeg(4001, 200), "尺寸 4001×200 像素，超过 4000×4000 上限"),
    (png(200, 4001, mode="L"), "尺寸 200×4001 像素，超过 4000×4000 上限"),
    (jpeg(99, 400), "尺寸 99×400 像素，小于 100×120（宽×高）下限"),
    (png(300, 119), "尺寸 300×119 像素，小于 100×120（宽×高）下限"),
    (TRUNCATED, "图片文件已损坏"),
], ids=["empty", "text", "pdf", "gif", "bmp", "too-wide", "too-tall", "too-narrow", "too-short", "truncated"])
def test_bad_photos_are_refused_and_nothing_is_stored(person, raw, message):
    with pytest.raises(InvalidInput, match=message) as raised:
        upload_photo(None, person, raw)
    assert raised.value.field == "photo"
    db.session.rollback()
    assert photo_count() == 0 and audit_count() == 0


def test_a_file_over_2_mb_is_refused(person):
    noisy = Image.effect_noise((2000, 2000), 120).convert("RGB")
    output = io.BytesIO()
    noisy.save(output, "PNG")
    assert len(output.getvalue()) > MAX_BYTES
    with pytest.raises(InvalidInput, match="超过 2 MB 上限"):
        upload_photo(None, person, output.getvalue())


def test_the_same_photo_twice_or_for_two_people(person, make_person):
    raw = jpeg()
    upload_photo(None, person, raw)
    db.session.commit()
    with pytest.raises(InvalidInput, match="这张照片已经上传过"):
        upload_photo(None, person, raw)
    with pytest.raises(InvalidInput, match="已用于另一人员"):
        upload_photo(None, make_person(), raw)


# --- who may upload ---------------------------------------------------------------------------------------

@pytest.fixture
def agency_candidate(make_agency, make_batch, make_person, make_user):
    """A person assessed by the agency, the agency's user, and a user of another agency."""
    agency = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    person = make_person(name="李四")
    record_result(None, make_batch(agency=agency), person, theory=85, practical=85)
    db.session.commit()
    return person, make_user(Role.AGENCY, organization_id=agency.id), make_user(
        Role.AGENCY, organization_id=make_agency().id)


def test_an_agency_uploads_for_its_own_candidates_only(agency_candidate):
    person, own, stranger = agency_candidate
    upload_photo(own, person, jpeg())
    with pytest.raises(Forbidden):
        upload_photo(stranger, person, png())


@pytest.mark.parametrize("role", [Role.COUNTY, Role.INSTITUTION])
def test_other_roles_may_not_upload(person, make_user, make_institution, role):
    organization = make_institution().id if role is Role.INSTITUTION else None
    with pytest.raises(Forbidden):
        upload_photo(make_user(role, organization_id=organization), person, jpeg())


# --- the page ---------------------------------------------------------------------------------------------

def post_photo(client, person, raw: bytes, filename: str = "photo.jpg"):
    return client.post(f"/people/{person.id}/photo", data={"photo": (io.BytesIO(raw), filename)},
                       content_type="multipart/form-data")


def test_the_administrator_uploads_and_sees_the_photo(client, login, make_user, person):
    login(make_user(Role.ADMIN))
    assert "尚未上传照片" in client.get(f"/people/{person.id}/photo").get_data(as_text=True)
    response = post_photo(client, person, jpeg(exif=exif_with_secrets()))
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "照片已上传" in page.get_data(as_text=True) and "data:image/jpeg;base64," in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert db.session.scalar(sa.select(PersonPhoto.person_id)) == person.id


def test_a_bad_upload_shows_the_reason_and_stores_nothing(client, login, make_user, person):
    login(make_user(Role.ADMIN))
    response = post_photo(client, person, other_format("GIF"), "photo.gif")
    assert response.status_code == 200
    assert "只接受 JPEG 或 PNG 格式，上传的是 GIF" in response.get_data(as_text=True)
    assert "请选择要上传的照片文件" in client.post(f"/people/{person.id}/photo", data={}).get_data(as_text=True)
    assert photo_count() == 0 and audit_count() == 0


def test_agencies_reach_their_candidates_photos_only(client, login, agency_candidate, person):
    candidate, own, _stranger = agency_candidate
    login(own)
    assert post_photo(client, candidate, jpeg()).status_code == 302
    assert client.get(f"/people/{candidate.id}/photo").status_code == 200
    assert client.get(f"/people/{person.id}/photo").status_code == 404


@pytest.mark.parametrize("role", [Role.COUNTY, Role.INSTITUTION])
def test_roles_that_do_not_print_certificates_never_see_photos(client, login, make_user, make_institution,
                                                               person, role):
    organization = make_institution().id if role is Role.INSTITUTION else None
    login(make_user(role, organization_id=organization))
    assert client.get(f"/people/{person.id}/photo").status_code == 403
    assert post_photo(client, person, jpeg()).status_code == 403


def test_the_person_page_links_the_photo_only_for_roles_that_handle_photos(client, login, make_user,
                                                                          agency_candidate):
    candidate, own, _stranger = agency_candidate  # registered in 杞县 (410221), assessed by the agency
    photo_link = f'href="/people/{candidate.id}/photo"'
    county = make_user(Role.COUNTY, "410221")
    for user, linked in ((make_user(Role.ADMIN), True), (own, True), (county, False)):
        page = login(user).get(f"/people/{candidate.id}")
        assert page.status_code == 200 and (photo_link in page.get_data(as_text=True)) is linked, user.role


def test_anonymous_visitors_are_sent_to_sign_in(client, person):
    response = client.get(f"/people/{person.id}/photo")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
