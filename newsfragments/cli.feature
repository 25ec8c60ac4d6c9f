The ``netref`` console command, with one subcommand per client tool, and ``--trace`` transcripts in the textbook's ``C:``/``S:`` form for every service and tool.
