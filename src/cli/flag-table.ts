// Every command's arguments and flags as one Markdown table, rendered from the same commander
// definitions the parser uses, so the README's table cannot drift from `--help` (a test compares).
import type { Command, Option } from 'commander';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

function defaultOf(o: Option): string {
  if (o.defaultValue === undefined) return '';
  const v = Array.isArray(o.defaultValue) ? o.defaultValue.join(' ') : String(o.defaultValue);
  return v === '' ? '`""`' : '`' + v + '`';
}

function rows(cmd: Command, path: string): string[] {
  const out: string[] = [];
  const subs = cmd.commands;
  if (subs.length > 0 && path) {
    for (const sub of subs) out.push(...rows(sub, `${path} ${sub.name()}`));
    return out;
  }
  for (const a of cmd.registeredArguments) {
    const name = a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`;
    out.push(`| ${path} | \`${name}\` | ${a.defaultValue === undefined ? '' : '`' + String(a.defaultValue) + '`'} | ${cell(a.description)} |`);
  }
  for (const o of cmd.options) {
    if (o.long === '--help' || o.hidden) continue;
    out.push(`| ${path} | \`${cell(o.flags)}\` | ${defaultOf(o)} | ${cell(o.description)} |`);
  }
  return out;
}

export function flagTable(program: Command): string {
  const lines = ['| command | argument or flag | default | what it does |', '|---|---|---|---|'];
  for (const cmd of program.commands) lines.push(...rows(cmd, cmd.name()));
  return lines.join('\n');
}
