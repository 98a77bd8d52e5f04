"""Master data: category/repair/fault trees, codes, goods and prices, warehouses, suppliers,
dictionaries (SPEC 2). Maintained at head office; branches read it."""
