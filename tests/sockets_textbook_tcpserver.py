# ruff: noqa: F403, F405 -- the book imports socket with "*"; kept as printed.
# The textbook's TCPServer (section 2.7), as printed, used as a test peer.
# Changes: it binds 127.0.0.1 (the book binds '', every interface), the port
# comes from argv[1] (0: any free port), and it prints the port it got.
import sys
from socket import *

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(("127.0.0.1", serverPort))
serverSocket.listen(1)
print("The server is ready to receive on port", serverSocket.getsockname()[1], flush=True)
while True:
    connectionSocket, addr = serverSocket.accept()
    sentence = connectionSocket.recv(1024).decode()
    capitalizedSentence = sentence.upper()
    connectionSocket.send(capitalizedSentence.encode())
    connectionSocket.close()
