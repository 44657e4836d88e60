// Composition root: the command line decides what runs; `serve` wires config -> store ->
// services -> server. Only this file includes transport/.
int main() { return 0; }
