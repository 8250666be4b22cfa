"""Publishing files (rules I2–I4, I7): safe unpacking of Alma archives and streamed MARCXML."""
