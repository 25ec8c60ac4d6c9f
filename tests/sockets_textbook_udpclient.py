# ruff: noqa: F403, F405 -- the book imports socket with "*"; kept as printed.
# The textbook's UDPClient (section 2.7), as printed, used as a test peer.
# Changes: the port comes from argv[1], as the book hard-codes 12000.
import sys
from socket import *

serverName = "localhost"
serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
clientSocket = socket(AF_INET, SOCK_DGRAM)
message = input("Input lowercase sentence:")
clientSocket.sendto(message.encode(), (serverName, serverPort))
modifiedMessage, serverAddress = clientSocket.recvfrom(2048)
print(modifiedMessage.decode())
clientSocket.close()
