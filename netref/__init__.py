"""
netref: a reference implementation of the Internet's application layer on Twisted.

Every protocol of the textbook's application-layer chapter lives in its own
package with the same rooms (C{wire}, C{server}, C{client}, C{tap}); shared
plumbing lives in L{netref.core}.
"""

__version__ = "0.1.0"
