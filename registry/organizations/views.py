"""Administrator pages for recognition agencies (with filed scope) and training institutions."""
from flask import Blueprint

bp = Blueprint("organizations", __name__)
