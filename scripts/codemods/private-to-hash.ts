// One-off codemod: TypeScript `private` members become ECMAScript private members (`#name`), which
// the lint rule in eslint.config.js asks for. Every reference is found with the language service;
// a member also reached other than as `obj.name` (destructuring, `obj['name']`) is left alone and
// listed, to be converted by hand. Constructor parameter properties become a field plus an
// assignment. Run, then check:
//
//   node --import tsx scripts/codemods/private-to-hash.ts src test bench
//   npx prettier --write src test bench && npx tsc -p tsconfig.json --noEmit && npm run test:unit
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const root = process.cwd();
const parsed = ts.getParsedCommandLineOfConfigFile(
  path.join(root, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (parsed === undefined) throw new Error('cannot read tsconfig.json');
const files = parsed.fileNames;
const service = ts.createLanguageService({
  getScriptFileNames: () => files,
  getScriptVersion: () => '0',
  getScriptSnapshot: (f) =>
    ts.sys.fileExists(f) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(f) ?? '') : undefined,
  getCurrentDirectory: () => root,
  getCompilationSettings: () => parsed.options,
  getDefaultLibFileName: ts.getDefaultLibFilePath,
  fileExists: ts.sys.fileExists,
  readFile: ts.sys.readFile,
});
const program = service.getProgram();
if (program === undefined) throw new Error('no program');
const checker = program.getTypeChecker();

const roots = process.argv.slice(2).map((dir) => path.resolve(root, dir) + path.sep);
const inScope = (file: string): boolean => roots.some((dir) => file.startsWith(dir));
const edits = new Map<string, Edit[]>();
const skipped: string[] = [];
const add = (file: string, edit: Edit): void => {
  edits.set(file, [...(edits.get(file) ?? []), edit]);
};
const isPrivate = (node: ts.Node): boolean =>
  ts.canHaveModifiers(node) &&
  (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword);
const privateKeyword = (node: ts.Node): ts.Modifier | undefined =>
  (ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined)?.find(
    (m) => m.kind === ts.SyntaxKind.PrivateKeyword,
  );

/** References to a member as `x.name` (renamed), or undefined when some reference is of another kind. */
function memberReferences(file: ts.SourceFile, name: ts.Identifier): ts.ReferenceEntry[] | undefined {
  const found = service.findReferences(file.fileName, name.getStart(file)) ?? [];
  const out: ts.ReferenceEntry[] = [];
  for (const ref of found.flatMap((r) => r.references)) {
    const refFile = program!.getSourceFile(ref.fileName);
    if (refFile === undefined) return undefined;
    const node = findToken(refFile, ref.textSpan.start);
    const parent = node?.parent;
    if (node === undefined || parent === undefined) return undefined;
    if (node === name) continue;
    if (ts.isPropertyAccessExpression(parent) && parent.name === node) out.push(ref);
    else if (ts.isParameter(parent) || ts.isIdentifier(node)) {
      // A parameter property's own parameter, and its uses as a plain variable, keep their name.
      if (!ts.isParameter(parent) && !isPlainVariableUse(node)) return undefined;
    } else return undefined;
  }
  return out;
}

function isPlainVariableUse(node: ts.Node): boolean {
  const parent = node.parent;
  return !(
    ts.isShorthandPropertyAssignment(parent) ||
    ts.isBindingElement(parent) ||
    ts.isPropertyAssignment(parent) ||
    ts.isElementAccessExpression(parent)
  );
}

function findToken(file: ts.SourceFile, pos: number): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    if (pos >= node.getStart(file) && pos < node.getEnd()) {
      found = node;
      ts.forEachChild(node, visit);
    }
  };
  visit(file);
  return found;
}

function removeKeyword(file: ts.SourceFile, keyword: ts.Modifier): void {
  let end = keyword.getEnd();
  while (/\s/.test(file.text[end] ?? '')) end++;
  add(file.fileName, { start: keyword.getStart(file), end, text: '' });
}

function convertMember(file: ts.SourceFile, member: ts.ClassElement, cls: string): void {
  const name = member.name;
  if (name === undefined || !ts.isIdentifier(name)) return;
  const refs = memberReferences(file, name);
  if (refs === undefined) {
    skipped.push(`${path.relative(root, file.fileName)}: ${cls}.${name.text}`);
    return;
  }
  removeKeyword(file, privateKeyword(member)!);
  add(file.fileName, { start: name.getStart(file), end: name.getEnd(), text: `#${name.text}` });
  for (const ref of refs)
    add(ref.fileName, {
      start: ref.textSpan.start,
      end: ref.textSpan.start + ref.textSpan.length,
      text: `#${name.text}`,
    });
}

function convertParameterProperty(
  file: ts.SourceFile,
  ctor: ts.ConstructorDeclaration,
  param: ts.ParameterDeclaration,
  cls: string,
): void {
  const name = param.name;
  if (!ts.isIdentifier(name) || ctor.body === undefined) return;
  const refs = memberReferences(file, name);
  if (refs === undefined) {
    skipped.push(`${path.relative(root, file.fileName)}: ${cls}.${name.text} (parameter property)`);
    return;
  }
  const readonly = (ts.getModifiers(param) ?? []).some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword);
  for (const modifier of ts.getModifiers(param) ?? []) removeKeyword(file, modifier);
  const type = param.type?.getText(file) ?? checker.typeToString(checker.getTypeAtLocation(param));
  const indent = ' '.repeat(ts.getLineAndCharacterOfPosition(file, ctor.getStart(file)).character);
  add(file.fileName, {
    start: ctor.getStart(file),
    end: ctor.getStart(file),
    text: `${readonly ? 'readonly ' : ''}#${name.text}: ${type};\n${indent}`,
  });
  const first = ctor.body.statements[0];
  const afterSuper =
    first !== undefined &&
    ts.isExpressionStatement(first) &&
    ts.isCallExpression(first.expression) &&
    first.expression.expression.kind === ts.SyntaxKind.SuperKeyword;
  const at = afterSuper ? first.getEnd() : ctor.body.getStart(file) + 1;
  add(file.fileName, { start: at, end: at, text: `\nthis.#${name.text} = ${name.text};` });
  for (const ref of refs)
    add(ref.fileName, {
      start: ref.textSpan.start,
      end: ref.textSpan.start + ref.textSpan.length,
      text: `#${name.text}`,
    });
}

for (const file of program.getSourceFiles()) {
  if (!inScope(file.fileName)) continue;
  const visit = (node: ts.Node): void => {
    if (ts.isClassLike(node)) {
      const cls = node.name?.text ?? '(anonymous class)';
      for (const member of node.members) {
        if (ts.isConstructorDeclaration(member)) {
          for (const param of member.parameters)
            if (isPrivate(param)) convertParameterProperty(file, member, param, cls);
        } else if (isPrivate(member)) convertMember(file, member, cls);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}

for (const [file, list] of edits) {
  let text = readFileSync(file, 'utf8');
  const unique = [...new Map(list.map((e) => [`${e.start}:${e.end}:${e.text}`, e])).values()];
  for (const edit of unique.sort((a, b) => b.start - a.start || b.end - a.end)) {
    text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  }
  writeFileSync(file, text);
}
console.log(`converted private members in ${edits.size} files`);
if (skipped.length > 0)
  console.log(`left for hand conversion (reached other than as obj.name):\n  ${skipped.join('\n  ')}`);
