"""Logistics (SPEC 4.3): orders 【订货申请】/【订单审核】, shipments 【物流发货】/【物流收货】, in transit."""
