"""Imagen's :predict (generate_images, edit_image)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from genserve.api.body import json_body
from genserve.api.deps import services
from genserve.convert.predict import to_generate_images_request, to_predict_response
from genserve.core.services import Services
from genserve.errors import NotFound
from genserve.schemas.predict import PredictRequest

router = APIRouter()


@router.post("/models/{model}:predict")
async def predict(
    model: str,
    body: PredictRequest = Depends(json_body(PredictRequest)),
    svc: Services = Depends(services),
) -> dict:
    entry = svc.catalog.get(model)
    if entry.task != "image":
        raise NotFound(f"models/{model} is not supported for predict. Call ListModels to see the supported methods.")
    images = await svc.images.generate_images(entry, to_generate_images_request(body, entry, model))
    return to_predict_response(images).wire()
