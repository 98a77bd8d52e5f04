"""Work orders (SPEC 5): intake at the front desk, repair with codes and parts, closing."""
