"""The serving image: what it is called and contains (spec), and the container engine."""
