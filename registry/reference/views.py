"""Administrator pages for occupations, targets and county denominators."""
from flask import Blueprint

bp = Blueprint("reference", __name__)
