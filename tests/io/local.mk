# tests/io
