export async function main(argv: string[]): Promise<void> {
  console.log('hffs-node', argv.join(' '))
}
