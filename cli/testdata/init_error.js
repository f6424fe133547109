export const options = { iterations: 1 };
const x = undefinedThing.field;
export default function () {}
