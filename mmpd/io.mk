# mmpd/io.c (device I/O engine)
