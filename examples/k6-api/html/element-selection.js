import http from "k6/http";

export default () => {
	let li = http.get(`${__ENV.BASE_URL}/test`).html().find("li");
	li.each(function(_, element) {
		let container = element.selection().closest('ul.header-icons');
		console.log("li.each", container.html())
	});
}

