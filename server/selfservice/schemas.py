"""The status page's JSON (`GET /api/v1/public/status/{token}`): only what the customer sees."""

from __future__ import annotations

from datetime import date, datetime

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


class QuoteLine(Struct):
    name: str  # repair and goods by name (no internal codes)
    qty: int
    unit_price: str  # the part's unit price (配件单价); amount = labor_fee + unit_price × qty
    labor_fee: str
    amount: str


class CustomerQuote(Struct):
    status: str  # pending | approved | declined | expired | superseded
    status_label: str
    valid_until: date
    lines: list[QuoteLine]
    labor: str
    parts: str
    total: str
    decline_reason: str  # the customer's own words when they declined


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
    quote: CustomerQuote | None  # the order's current quote, as the page shows it
    rating: int | None  # the customer's 1–5, once given (only after 结单)


class RatingIn(Struct):
    phone_last4: str
    rating: int  # 1–5
