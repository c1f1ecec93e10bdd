// Chinese texts for the form: ajv's validation messages (by keyword) and rjsf's own labels.

const ajvMessages = {
  required: () => "此项为必填项",
  type: () => "类型不正确",
  enum: () => "请从给定选项中选择",
  const: () => "取值不正确",
  minLength: (p) => `至少需要 ${p.limit} 个字符`,
  maxLength: (p) => `最多 ${p.limit} 个字符`,
  minimum: (p) => `不能小于 ${p.limit}`,
  maximum: (p) => `不能大于 ${p.limit}`,
  exclusiveMinimum: (p) => `必须大于 ${p.limit}`,
  exclusiveMaximum: (p) => `必须小于 ${p.limit}`,
  minItems: (p) => `至少需要 ${p.limit} 项`,
  maxItems: (p) => `最多 ${p.limit} 项`,
  uniqueItems: () => "条目不能重复",
  pattern: () => "格式不正确",
  format: (p) => (p.format === "date" ? "请输入有效日期" : p.format === "email" ? "请输入有效的电子邮箱" : "格式不正确"),
  multipleOf: (p) => `必须是 ${p.multipleOf} 的倍数`,
  additionalProperties: () => "包含不允许的字段",
  oneOf: () => "必须符合其中一种情形",
  anyOf: () => "至少须符合一种情形",
  if: () => "不满足条件要求",
};

/** ajv localizer: rewrites each error's message in Chinese, keyed by the failing keyword. */
export function localizeZh(errors) {
  for (const error of errors || []) {
    const make = ajvMessages[error.keyword];
    error.message = make ? make(error.params || {}) : "数据无效";
  }
}

const rjsfStrings = {
  Item: "条目",
  "No items yet. Use the button below to add some.": "暂无条目，请点击下方按钮添加。",
  Yes: "是",
  No: "否",
  Close: "关闭",
  Add: "添加",
  "Add Item": "添加条目",
  Copy: "复制",
  "Move down": "下移",
  "Move up": "上移",
  Remove: "删除",
  Now: "现在",
  Clear: "清除",
  "Select a date": "选择日期",
  "clear input": "清空",
  "Option %1": "选项 %1",
};

/** rjsf translateString for Chinese pages; unknown strings stay in English. */
export function translateZh(text, params) {
  let result = rjsfStrings[text] ?? text;
  (params || []).forEach((value, index) => {
    result = result.replaceAll(`%${index + 1}`, value);
  });
  return result;
}
