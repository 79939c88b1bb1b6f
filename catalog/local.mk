# catalog/: the journald message catalog (`journalctl -x` texts for mmpd's
# MESSAGE_IDs), installed in systemd's catalog directory (configure
# --with-catalogdir).  journald reads it once the catalog database is rebuilt:
# Debian's systemd package does that by a dpkg trigger; after a plain
# `make install` run `journalctl --update-catalog`.
dist_catalog_DATA = catalog/mmpd.catalog
