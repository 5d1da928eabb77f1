// How the audience is said, wherever it is shown: the listeners off the stage (the server's
// audience_count never counts the stage).

/** "1 person listening", "12 people listening". */
export function listening(count: number): string {
  return `${count} ${count === 1 ? "person" : "people"} listening`;
}
