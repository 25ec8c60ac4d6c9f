``twistd -n netref-lab`` starts the textbook's little Internet on loopback, one address per host, and prints a map of hosts, services and commands to try.
