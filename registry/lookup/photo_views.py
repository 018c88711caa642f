"""Holder photos: the administrator and agencies upload and see them; no other role needs them."""
import base64

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from registry.core.access import roles_required
from registry.core.roles import Role
from registry.core.forms import submit
from registry.people import photos
from registry.people.scopes import get_person_or_404
from registry.lookup.views import bp

PHOTO_ROLES = (Role.ADMIN, Role.AGENCY)
photo_roles = roles_required(*PHOTO_ROLES)


class PhotoForm(FlaskForm):
    photo = FileField("持证人照片", validators=[FileRequired("请选择要上传的照片文件")], description=(
        f"JPEG 或 PNG，不超过 {photos.MAX_BYTES // 1048576} MB，宽×高在 {photos.MIN_WIDTH}×{photos.MIN_HEIGHT} 至 "
        f"{photos.MAX_SIDE}×{photos.MAX_SIDE} 像素之间；保存前去除 EXIF、定位等全部元数据"))


@bp.app_template_global()
def may_handle_photos(user) -> bool:
    """For the person page, which links here only for the roles this page lets in."""
    return getattr(user, "is_authenticated", False) and user.role in PHOTO_ROLES


@bp.route("/people/<int:person_id>/photo", methods=["GET", "POST"])
@photo_roles
def upload_photo(person_id: int):
    person = get_person_or_404(current_user, person_id)
    form = PhotoForm()
    # Read one byte past the limit: enough to refuse an oversized file without holding all of it.
    if form.validate_on_submit() and submit(form, lambda: photos.upload_photo(
            current_user, person, form.photo.data.read(photos.MAX_BYTES + 1))):
        flash("照片已上传。", "success")
        return redirect(url_for("people.upload_photo", person_id=person.id))
    photo = photos.current_photo(person.id)
    # Inline, so the picture never has an address of its own that a browser or proxy could keep.
    image = None
    if photo:
        image = f"data:{photo.content_type};base64,{base64.b64encode(photo.data).decode('ascii')}"
    response = make_response(render_template("lookup/photo.html", person=person, form=form, photo=photo,
                                             image=image))
    response.headers["Cache-Control"] = "no-store"
    return response
