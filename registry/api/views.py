"""The /api/v1 blueprint; each area's endpoints live in their own module and attach to it."""
from flask import Blueprint

bp = Blueprint("api", __name__)
