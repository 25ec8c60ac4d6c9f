"""
The lab: the textbook's little Internet, brought up on loopback by one command.

Every host of the textbook (gaia.cs.umass.edu, www.someschool.edu,
mail.crepes.fr, ...) gets its own address in 127.0.0.0/8, which Linux routes
entirely to the local machine, and runs its services on the same port as
every other host.  L{netref.lab.hosts} says which hosts exist and what they
run; L{netref.lab.kinds} says how each kind of service is started;
L{netref.lab.lab} turns the two into Twisted services and a printed map.
"""
