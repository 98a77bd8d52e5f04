"""Tables of logistics: orders (lg_order*) and shipments (lg_shipment*)."""
