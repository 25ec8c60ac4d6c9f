# ruff: noqa: F403, F405 -- the book imports socket with "*"; kept as printed.
# The textbook's TCPClient (section 2.7), as printed, used as a test peer.
# Changes: the port comes from argv[1], as the book hard-codes 12000.
import sys
from socket import *

serverName = "localhost"
serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
clientSocket = socket(AF_INET, SOCK_STREAM)
clientSocket.connect((serverName, serverPort))
sentence = input("Input lowercase sentence:")
clientSocket.send(sentence.encode())
modifiedSentence = clientSocket.recv(1024)
print("From Server:", modifiedSentence.decode())
clientSocket.close()
