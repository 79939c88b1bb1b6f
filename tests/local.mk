# Unit tests (cmocka, TAP output) and integration scripts (TAP).
