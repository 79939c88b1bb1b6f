# tests/integ
