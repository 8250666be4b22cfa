"""SCF business rules: frozen dataclasses and pure functions, standard library only."""
