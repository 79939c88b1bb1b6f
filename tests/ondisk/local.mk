# tests/ondisk
