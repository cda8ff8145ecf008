/* placeholder until the real arborctl lands */
int main(void) { return 64; }
