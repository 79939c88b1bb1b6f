# mmpd/: the daemon.  Its pieces are split so tests can link them alone.
include mmpd/conf.mk
include mmpd/io.mk
include mmpd/varlink.mk
