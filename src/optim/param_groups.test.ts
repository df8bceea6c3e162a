// paramGroupsWeightDecay: timm's param_groups_weight_decay rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, zeros } from '../tensor';
import { Module } from '../nn/module';
import { Linear, LayerNorm } from '../nn';
import { paramGroupsWeightDecay, globToRegExp, AdamW } from './index';

class Block extends Module {
  norm = this.module('norm', new LayerNorm(4));
  fc = this.module('fc', new Linear(4, 4));
  gamma = this.param('gamma', zeros([1, 4]));
  forward(x: Tensor): Tensor { return x; }
}
class Vit extends Module {
  cls_token = this.param('cls_token', zeros([1, 1, 4]));
  pos_embed = this.param('pos_embed', zeros([1, 5, 4]));
  blocks = this.module('blocks', new Block());
  head = this.module('head', new Linear(4, 3));
  frozen = this.param('frozen', zeros([2, 2]));
  constructor() { super(); this.frozen.requiresGrad = false; }
  forward(x: Tensor): Tensor { return x; }
}
class Distiller extends Module {
  student = this.module('student', new Vit());
  proj = this.module('proj', new Linear(4, 8));
  mystery = this.param('mystery', zeros([2, 3]));
  forward(x: Tensor): Tensor { return x; }
  noWeightDecay(): string[] { return ['mystery']; }
}

const names = (g: { params: { name: string }[] } | undefined) => (g ? g.params.map((p) => p.name) : []);

test('no decay for 1-d params, biases and tokens; decay for matrices; frozen params left out', () => {
  const m = new Vit();
  const groups = paramGroupsWeightDecay(m, 0.05);
  assert.deepEqual(groups.map((g) => [g.name, g.weightDecay]), [['no_decay', 0], ['decay', 0.05]]);
  assert.deepEqual(names(groups[0]), ['cls_token', 'pos_embed', 'blocks.norm.weight', 'blocks.norm.bias', 'blocks.fc.bias', 'head.bias']);
  assert.deepEqual(names(groups[1]), ['blocks.gamma', 'blocks.fc.weight', 'head.weight']);
  // timm's exact rule (no token names): the tokens are 3-d so they get decay
  const timm = paramGroupsWeightDecay(m, 0.05, { tokenNames: [] });
  assert.deepEqual(names(timm[1]), ['cls_token', 'pos_embed', 'blocks.gamma', 'blocks.fc.weight', 'head.weight']);
  // skipList: exact, dotted suffix, fnmatch pattern
  const skip = paramGroupsWeightDecay(m, 0.05, { skipList: ['head.weight', '*.gamma'] });
  assert.deepEqual(names(skip[1]), ['blocks.fc.weight']);
  // the groups go straight into an optimizer
  const opt = new AdamW(groups, { lr: 1e-3 });
  assert.deepEqual(opt.paramGroups.map((g) => g.weightDecay), [0, 0.05]);
  opt.dispose();
  // a Module directly: all trainable parameters in one group, by their dotted names
  const all = new AdamW(m, { lr: 1e-3 });
  assert.equal(all.paramGroups.length, 1);
  assert.ok(all.param('blocks.fc.weight') && !all.param('frozen'));
  all.dispose(); m.dispose();
});

test("submodules' noWeightDecay() and nested token names", () => {
  const d = new Distiller();
  const groups = paramGroupsWeightDecay(d, 0.1);
  assert.deepEqual(names(groups[1]), ['student.blocks.gamma', 'student.blocks.fc.weight', 'student.head.weight', 'proj.weight']);
  assert.ok(names(groups[0]).includes('mystery'));
  assert.ok(names(groups[0]).includes('student.pos_embed'));
  d.dispose();
});

test('globToRegExp is fnmatch-like', () => {
  assert.ok(globToRegExp('blocks.*.gamma').test('blocks.3.gamma'));
  assert.ok(!globToRegExp('blocks.*.gamma').test('blocksX3.gammaX'));
  assert.ok(globToRegExp('a?c').test('abc'));
  assert.ok(globToRegExp('x[!0-9]').test('xa'));
  assert.ok(!globToRegExp('x[!0-9]').test('x1'));
});
