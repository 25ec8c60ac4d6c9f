# ruff: noqa: F403, F405 -- the book imports socket with "*"; kept as printed.
# The textbook's UDPServer (section 2.7), as printed, used as a test peer.
# Changes: it binds 127.0.0.1 (the book binds '', every interface), the port
# comes from argv[1] (0: any free port), and it prints the port it got.
import sys
from socket import *

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(("127.0.0.1", serverPort))
print("The server is ready to receive on port", serverSocket.getsockname()[1], flush=True)
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    modifiedMessage = message.decode().upper()
    serverSocket.sendto(modifiedMessage.encode(), clientAddress)
