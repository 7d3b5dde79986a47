"""Money: prices per call, budgets per batch, the call guard (budget and circuit per provider), and
one money format."""
