import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/**
 * Every exported function declaration under `srcDir` whose TSDoc has no `@example`, as
 * `file: name`. Used by the packages' documentation tests.
 */
export function functionsWithoutExample(srcDir: string): string[] {
  const missing: string[] = [];
  for (const file of sourceFiles(srcDir)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    // Overloads: the example may sit on any declaration of the name (usually the first).
    const exported = new Set<string>();
    const documented = new Set<string>();
    for (const node of source.statements) {
      if (!ts.isFunctionDeclaration(node) || !node.name) continue;
      if (!node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
      exported.add(node.name.text);
      const docs = ts.getJSDocCommentsAndTags(node).map((d) => d.getText(source));
      if (docs.some((d) => d.includes('@example'))) documented.add(node.name.text);
    }
    for (const name of exported)
      if (!documented.has(name)) missing.push(`${relative(srcDir, file)}: ${name}`);
  }
  return missing;
}
