"""`make bench`: arq and streaq side by side, each in its deployed processes."""
