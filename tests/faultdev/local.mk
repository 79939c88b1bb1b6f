# tests/faultdev
