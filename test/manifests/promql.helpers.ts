// PromQL as the manifests use it, parsed by Prometheus's own grammar (@prometheus-io/lezer-promql),
// and an instant-vector evaluator for exactly the forms KEDA's trigger uses: selectors with label
// matchers and the aggregations sum, max, min and count (by/without). Anything else is refused,
// never approximated: the trigger must stay simple enough to evaluate faithfully here.
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';

/** One sample: a series' labels (its metric name in `__name__`) and its value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Where the expression does not parse (Lezer recovers from errors and marks them `⚠`). */
export function syntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError)
        errors.push(`at ${node.from}: ${JSON.stringify(expr.slice(node.from, node.from + 20))}`);
    },
  });
  return errors;
}

/** Metric names of every vector selector in the expression (inside functions and ranges too). */
export function selectedMetrics(expr: string): string[] {
  const names: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name !== 'VectorSelector') return;
      const identifier = node.node.getChild('Identifier');
      names.push(identifier ? expr.slice(identifier.from, identifier.to) : '');
    },
  });
  return names;
}

/** A PromQL string literal: double- or single-quoted with Go escapes, or a raw backtick string. */
function stringValue(text: string): string {
  if (text.startsWith('`')) return text.slice(1, -1);
  const body = text.slice(1, -1).replace(/\\'/g, "'");
  return JSON.parse(`"${body.replace(/(?<!\\)"/g, '\\"')}"`) as string;
}

type Matcher = (labels: Record<string, string>) => boolean;

function labelMatcher(expr: string, node: SyntaxNode): Matcher {
  const text = (child: SyntaxNode | null) => (child ? expr.slice(child.from, child.to) : '');
  const name = text(node.getChild('LabelName'));
  const op = text(node.getChild('MatchOp'));
  const value = stringValue(text(node.getChild('StringLiteral')));
  // Prometheus anchors regular expressions at both ends.
  const regex = new RegExp(`^(?:${value})$`);
  const tests: Record<string, (actual: string) => boolean> = {
    '=': (actual) => actual === value,
    '!=': (actual) => actual !== value,
    '=~': (actual) => regex.test(actual),
    '!~': (actual) => !regex.test(actual),
  };
  const test = tests[op];
  if (!name || !test) throw new Error(`unsupported label matcher: ${text(node)}`);
  // A missing label matches as the empty string.
  return (labels) => test(labels[name] ?? '');
}

function selectVector(expr: string, node: SyntaxNode, samples: readonly Sample[]): Sample[] {
  const matchers: Matcher[] = [];
  const identifier = node.getChild('Identifier');
  if (identifier) {
    const metric = expr.slice(identifier.from, identifier.to);
    matchers.push((labels) => labels.__name__ === metric);
  }
  for (const matcher of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
    matchers.push(labelMatcher(expr, matcher));
  }
  return samples.filter((sample) => matchers.every((matches) => matches(sample.labels)));
}

const AGGREGATIONS: Record<string, (values: number[]) => number> = {
  sum: (values) => values.reduce((total, value) => total + value, 0),
  max: (values) => Math.max(...values),
  min: (values) => Math.min(...values),
  count: (values) => values.length,
};

function aggregate(expr: string, node: SyntaxNode, samples: readonly Sample[]): Sample[] {
  const op = expr.slice(node.getChild('AggregateOp')!.from, node.getChild('AggregateOp')!.to);
  const reduce = AGGREGATIONS[op];
  if (!reduce) throw new Error(`unsupported aggregation: ${op}`);
  const modifier = node.getChild('AggregateModifier');
  const grouping = (modifier?.getChild('GroupingLabels')?.getChildren('LabelName') ?? []).map(
    (label) => expr.slice(label.from, label.to),
  );
  const without = Boolean(modifier?.getChild('Without'));
  // Parentheses are anonymous tokens: the body's one child node is the argument.
  const inner = node.getChild('FunctionCallBody')?.firstChild;
  if (!inner) throw new Error(`${op} without an argument`);
  const groups = new Map<string, { labels: Record<string, string>; values: number[] }>();
  for (const sample of evaluateNode(expr, inner, samples)) {
    const kept = Object.fromEntries(
      Object.entries(sample.labels).filter(
        ([label]) => label !== '__name__' && grouping.includes(label) !== without,
      ),
    );
    const key = JSON.stringify(Object.entries(kept).sort());
    const group = groups.get(key) ?? { labels: kept, values: [] };
    group.values.push(sample.value);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ labels, values }) => ({ labels, value: reduce(values) }));
}

function evaluateNode(expr: string, node: SyntaxNode, samples: readonly Sample[]): Sample[] {
  switch (node.name) {
    case 'PromQL':
    case 'ParenExpr': {
      const inner = node.firstChild;
      if (!inner) throw new Error('empty expression');
      return evaluateNode(expr, inner, samples);
    }
    case 'VectorSelector':
      return selectVector(expr, node, samples);
    case 'AggregateExpr':
      return aggregate(expr, node, samples);
    default:
      throw new Error(
        `unsupported in a KEDA trigger query: ${node.name} (${expr.slice(node.from, node.to)})`,
      );
  }
}

/**
 * The instant vector `expr` gives over `samples` (what Prometheus holds from the last scrape of
 * every target). Refuses expressions that do not parse or use forms beyond selectors and sum, max,
 * min and count.
 */
export function evaluate(expr: string, samples: readonly Sample[]): Sample[] {
  const errors = syntaxErrors(expr);
  if (errors.length > 0) throw new Error(`does not parse: ${errors.join('; ')}`);
  return evaluateNode(expr, parser.parse(expr).topNode, samples);
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(["\\n])/g, (_match, char: string) => (char === 'n' ? '\n' : char));
}

/**
 * The samples of a Prometheus text exposition (`/metrics`), with the labels Prometheus attaches
 * to every series of the target (`target`: job, instance, pod…) as a scrape would.
 */
export function parseExposition(text: string, target: Record<string, string> = {}): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = { ...target, __name__: match[1]! };
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = unescapeLabel(pair[2]!);
    }
    samples.push({ labels, value: Number(match[3]) });
  }
  return samples;
}
