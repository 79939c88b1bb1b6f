# mmpd/conf.c (config loader)
