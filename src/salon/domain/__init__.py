"""Pure rules of Salon: no I/O, time passed in."""
