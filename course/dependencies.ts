/**
 * Which cells grading needs. The assembled notebook is the instructor's, with
 * only the solution cells taken from the submission (course/grade.ts), so the
 * grade depends on the solution and check cells alone, plus whatever they
 * use: the cell that imports the workbook and sets up the backend, and any
 * cell that declares a name a needed cell reads. Training runs, figures and
 * tables that no graded cell reads need not run: skipping them turns a
 * minutes-long notebook into seconds of grading.
 *
 * Names come from the TypeScript parser: a cell declares the names of its
 * top-level declarations (variables with their destructured names, functions,
 * classes, types, interfaces, enums, imports) and uses every identifier it
 * contains. Using every identifier (property names included) errs towards
 * running a cell too many, never one too few.
 */
import ts from "typescript";
import { nbgraderOf, Notebook, sourceText } from "./notebook";

/** The top-level names a cell declares and the identifiers it mentions. */
export interface CellNames {
  declares: Set<string>;
  uses: Set<string>;
  /** Whether it imports modules or sets up the backend: such a cell always runs. */
  setup: boolean;
}

/** Names bound by a declaration's name: an identifier or a destructuring pattern. */
function boundNames(name: ts.BindingName, into: Set<string>): void {
  if (ts.isIdentifier(name)) {
    into.add(name.text);
    return;
  }
  for (const element of name.elements) {
    if (ts.isBindingElement(element)) boundNames(element.name, into);
  }
}

/**
 * The names a cell's TypeScript declares at top level and every identifier it
 * mentions. Never throws: a cell with syntax errors yields what parses.
 *
 * @example
 * cellNames("const { a, b: c } = f(x);\nfunction g() { return h; }");
 * // declares {a, c, g}, uses {a, b, c, f, x, g, h}, setup false
 */
export function cellNames(source: string): CellNames {
  const file = ts.createSourceFile("cell.ts", source, ts.ScriptTarget.ES2020, false, ts.ScriptKind.TS);
  const declares = new Set<string>();
  const uses = new Set<string>();
  let setup = false;
  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) boundNames(declaration.name, declares);
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      declares.add(statement.name.text);
    } else if (ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) {
      setup = true;
      const clause = ts.isImportDeclaration(statement) ? statement.importClause : undefined;
      if (ts.isImportEqualsDeclaration(statement)) declares.add(statement.name.text);
      if (clause?.name) declares.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) declares.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) declares.add(element.name.text);
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) uses.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (uses.has("setupBackend")) setup = true;
  return { declares, uses, setup };
}

/**
 * Indices of the code cells grading must run, up to `lastCell` (the last
 * check cell; -1 for every cell): the solution and check cells, every setup
 * cell (imports, `setupBackend`), and, repeatedly, every earlier cell that
 * declares a name a needed cell uses.
 *
 * @example
 * const needed = cellsNeededForGrading(assembled, lastCheckCell(assembled));
 * const skipped = codeCells.filter((i) => !needed.has(i));
 */
export function cellsNeededForGrading(notebook: Notebook, lastCell: number): Set<number> {
  const last = lastCell < 0 ? notebook.cells.length - 1 : lastCell;
  const code: number[] = [];
  notebook.cells.forEach((cell, i) => {
    if (cell.cell_type === "code" && i <= last) code.push(i);
  });
  const names = new Map(code.map((i) => [i, cellNames(sourceText(notebook.cells[i]))]));
  const needed = new Set(
    code.filter((i) => {
      const grader = nbgraderOf(notebook.cells[i]);
      return grader?.solution === true || grader?.grade === true || names.get(i)!.setup;
    }),
  );
  for (let changed = true; changed; ) {
    changed = false;
    for (const i of code) {
      if (needed.has(i)) continue;
      const declares = names.get(i)!.declares;
      // A name counts only for the needed cells after the one declaring it.
      const read = [...needed].some((j) => j > i && [...declares].some((name) => names.get(j)!.uses.has(name)));
      if (read) {
        needed.add(i);
        changed = true;
      }
    }
  }
  return needed;
}
