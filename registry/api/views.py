"""The /api/v1 blueprint; each area's endpoints live in their own module and attach to it (the public calls,
registry/api/public_views.py, have a blueprint of their own for their rate limits)."""
from flask import Blueprint

bp = Blueprint("api", __name__)
