"""A reservation as stored in its Redis hash: the fields Lua needs, plus one JSON `meta`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import msgspec

from adapters.redis.keys import KeySpace, from_micros, to_micros
from domain.attribution import Attribution
from domain.money import Money
from domain.reservations import CounterKey, Reservation, ReservationState

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(dict[str, Any])


def reserved_keys_json(space: KeySpace, reservation: Reservation) -> str:
    """The counter keys the hold sits on, as Lua reads them to give the hold back."""
    return _encoder.encode([space.reserved(key) for key in reservation.keys]).decode()


def encode_meta(reservation: Reservation) -> str:
    attribution = reservation.attribution
    # Every cap check writes one: msgspec encodes it in a fraction of json.dumps's time.
    return _encoder.encode(
        {
            "id": reservation.id,
            "tenant_id": reservation.tenant_id,
            "amount": reservation.amount.nanos,
            "keys": [[key.cap_id, to_micros(key.window_start)] for key in reservation.keys],
            "expires_at": to_micros(reservation.expires_at),
            "provider": attribution.provider,
            "model": attribution.model,
            "agent": attribution.agent,
            "customer_id": attribution.customer_id,
        }
    ).decode()


def decode_meta(text: bytes | str, state: ReservationState = ReservationState.HELD) -> Reservation:
    data: dict[str, Any] = _decoder.decode(text)
    tenant_id = str(data["tenant_id"])
    reservation = Reservation(
        id=str(data["id"]),
        tenant_id=tenant_id,
        amount=Money(int(data["amount"])),
        keys=tuple(
            CounterKey(tenant_id, str(cap), from_micros(int(start))) for cap, start in data["keys"]
        ),
        expires_at=from_micros(int(data["expires_at"])),
        attribution=Attribution(
            provider=str(data["provider"]),
            model=str(data["model"]),
            agent=data.get("agent"),
            customer_id=data.get("customer_id"),
        ),
    )
    return reservation if state is ReservationState.HELD else replace(reservation, state=state)
