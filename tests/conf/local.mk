# tests/conf
