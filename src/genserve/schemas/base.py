"""Proto3-JSON parsing rules shared by every wire model (wire.md §0.2, §0.3, §14)."""

from __future__ import annotations

import base64
import binascii
import enum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel


class ProtoModel(BaseModel):
    """Accepts both spellings of every known field, ignores unknown ones, and dumps lowerCamelCase."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        serialize_by_alias=True,
    )

    def wire(self) -> dict[str, Any]:
        """The JSON object to send: camelCase, unset fields left out as proto3 JSON does."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# Proto3 scalar ranges: a value outside them is a 400 at the boundary, never an overflow inside an engine (a topK of
# 2**31 once killed the continuous batcher's thread). JSON numbers such as 1e400 parse as infinity: refused too.
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Float = Annotated[float, Field(allow_inf_nan=False)]


def _decode_base64(value: object) -> object:
    # Python SDKs send the URL-safe alphabet, JS and Imagen the standard one; padding may be missing.
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a base64 string")
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("is not valid base64") from exc


Base64Bytes = Annotated[
    bytes,
    BeforeValidator(_decode_base64),
    PlainSerializer(lambda b: base64.b64encode(b).decode("ascii"), return_type=str, when_used="json"),
]

E = TypeVar("E", bound=enum.Enum)


def proto_enum(enum_cls: type[E]) -> BeforeValidator:
    """The validator of an enum field that accepts the value's name in any case or its proto number (the legacy
    SDK's form): `Annotated[SomeEnum, proto_enum(SomeEnum)]`."""
    members = list(enum_cls)

    def parse(value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("must be an enum name or number")
        if isinstance(value, (int, float)) and float(value).is_integer():
            index = int(value)
            if 0 <= index < len(members):
                return members[index]
            raise ValueError(f"{index} is not a valid {enum_cls.__name__} number")
        if isinstance(value, str):
            try:
                return enum_cls[value.strip().upper()]
            except KeyError:
                names = ", ".join(m.name for m in members)
                raise ValueError(f"'{value}' is not one of {names}") from None
        return value

    return BeforeValidator(parse)
