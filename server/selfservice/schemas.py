"""The status page's JSON (`GET /api/v1/public/status/{token}`): only what the customer sees."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct


class StatusStep(Struct):
    status: str
    label: str
    at: datetime


class CustomerCharges(Struct):
    labor: str
    parts: str
    total: str


class ServiceCentre(Struct):
    name: str
    address: str
    phone: str


class StatusOut(Struct):
    no: str
    status: str
    status_label: str
    device: str
    serial_no: str
    fault_description: str
    created_at: datetime
    promised_at: datetime | None
    timeline: list[StatusStep]
    charges: CustomerCharges | None  # from 维修完毕 on
    centre: ServiceCentre  # where the device was handed in
    company: str
