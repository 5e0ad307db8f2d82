"""The web intake form (being written)."""

from fastapi import APIRouter

router = APIRouter()
