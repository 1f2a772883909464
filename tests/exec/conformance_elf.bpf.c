/* An object for the conformance plugin's --elf mode: adds the first two bytes of the memory. */
__attribute__((section("conformance"), used)) int add_two_bytes(unsigned char *memory)
{
    return memory[0] + memory[1];
}
