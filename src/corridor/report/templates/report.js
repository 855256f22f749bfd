// Pan/zoom on the SVG viewBox (no library, the file must work offline): drag to pan, Ctrl+wheel
// or the buttons to zoom, double-click to reset. Elements with class "ks" (labels, symbols)
// are counter-scaled about their anchor (data-x, data-y) so they keep their size on screen;
// lines keep their width through vector-effect="non-scaling-stroke". Tapping a symbol shows
// its text (the SVG <title>, which touch screens never show) in a box under the figure.
// On a narrow screen the kept-size elements are scaled up so map text stays readable
// (the size it was drawn at), and labels that then collide are hidden, first placed first kept.
(function(){
  document.querySelectorAll('svg.zoomable').forEach(function(svg){
    var b=svg.viewBox.baseVal, o={x:b.x,y:b.y,w:b.width,h:b.height}, v={x:o.x,y:o.y,w:o.w,h:o.h};
    var o_text=svg.getAttribute('viewBox');
    var keep=svg.querySelectorAll('.ks');
    var labels=svg.querySelectorAll('.node-label,.country-label');
    // labels avoid the place symbols and each other: each node label tries the positions
    // below in turn (right, left, above, below its place) and is hidden if none is free
    var nodes=svg.querySelectorAll('[data-node]');
    var spots=[[10,5,'start'],[-10,5,'end'],[0,-12,'middle'],[0,21,'middle']];
    function declutter(){var box=svg.getBoundingClientRect();
      var kept=[].map.call(nodes,function(g){return g.getBoundingClientRect();});
      function free(r){return r.width&&r.left>=box.left-1&&r.right<=box.right+1&&r.top>=box.top-1
        &&r.bottom<=box.bottom+1&&!kept.some(function(q){
          return !(r.right<q.left||q.right<r.left||r.bottom<q.top||q.bottom<r.top);});}
      labels.forEach(function(t){t.style.visibility='';
        if(t.dataset.x0===undefined){t.dataset.x0=t.getAttribute('x');t.dataset.y0=t.getAttribute('y');
          t.dataset.a0=t.getAttribute('text-anchor');}
        var g=t.parentNode,nx=+g.getAttribute('data-x'),ny=+g.getAttribute('data-y');
        var tries=[[+t.dataset.x0,+t.dataset.y0,t.dataset.a0]];
        if(t.classList.contains('node-label'))spots.forEach(function(p){tries.push([nx+p[0],ny+p[1],p[2]]);});
        for(var i=0;i<tries.length;i++){
          t.setAttribute('x',tries[i][0]);t.setAttribute('y',tries[i][1]);t.setAttribute('text-anchor',tries[i][2]);
          var r=t.getBoundingClientRect();if(free(r)){kept.push(r);return;}}
        t.style.visibility='hidden';});}
    function rescale(){if(!keep.length)return;
      var shown=svg.getBoundingClientRect().width||o.w;
      var base=Math.max(1,o.w/shown), k=base*v.w/o.w;
      keep.forEach(function(el){
      var x=+el.getAttribute('data-x'),y=+el.getAttribute('data-y');
      el.setAttribute('transform',k===1?'':'translate('+x+' '+y+') scale('+k+') translate('+(-x)+' '+(-y)+')');});
      if(labels.length)declutter();}
    function set(){svg.setAttribute('viewBox',v.x+' '+v.y+' '+v.w+' '+v.h);rescale();}
    function reset(){v={x:o.x,y:o.y,w:o.w,h:o.h};svg.setAttribute('viewBox',o_text);rescale();}
    function clamp(){v.x=Math.max(o.x-v.w*0.5,Math.min(v.x,o.x+o.w-v.w*0.5));
      v.y=Math.max(o.y-v.h*0.5,Math.min(v.y,o.y+o.h-v.h*0.5));}
    function at(e){var r=svg.getBoundingClientRect();
      return {x:v.x+(e.clientX-r.left)/r.width*v.w,y:v.y+(e.clientY-r.top)/r.height*v.h};}
    function zoom(k,p){var nw=Math.min(o.w,Math.max(o.w/30,v.w*k));k=nw/v.w;
      v.x=p.x-(p.x-v.x)*k;v.y=p.y-(p.y-v.y)*k;v.w*=k;v.h*=k;clamp();set();}
    svg.addEventListener('wheel',function(e){if(!(e.ctrlKey||e.metaKey))return;
      e.preventDefault();zoom(e.deltaY<0?0.8:1.25,at(e));},{passive:false});
    var drag=null,moved=false;
    svg.addEventListener('pointerdown',function(e){drag={x:e.clientX,y:e.clientY,vx:v.x,vy:v.y};
      moved=false;});
    svg.addEventListener('pointermove',function(e){if(!drag||v.w>=o.w)return;
      var r=svg.getBoundingClientRect(),dx=e.clientX-drag.x,dy=e.clientY-drag.y;
      if(Math.abs(dx)+Math.abs(dy)>3){moved=true;svg.classList.add('dragging');}
      if(!moved)return;
      v.x=drag.vx-dx/r.width*v.w;v.y=drag.vy-dy/r.height*v.h;clamp();set();});
    function end(){drag=null;svg.classList.remove('dragging');}
    svg.addEventListener('pointerup',end);svg.addEventListener('pointerleave',end);
    var tip=document.createElement('div');tip.className='tip';tip.hidden=true;
    tip.setAttribute('role','status');
    svg.addEventListener('click',function(e){
      if(moved){e.preventDefault();e.stopPropagation();moved=false;return;}
      var el=e.target.closest('a,g');
      while(el&&el!==svg&&!(el.firstElementChild&&el.firstElementChild.tagName==='title'))el=el.parentElement;
      if(!el||el===svg)return;
      e.preventDefault();
      tip.textContent=el.firstElementChild.textContent;
      var href=el.getAttribute('href');
      if(href){var a=document.createElement('a');a.href=href;a.textContent=' → source';tip.appendChild(a);}
      tip.hidden=false;},true);
    svg.addEventListener('dblclick',function(e){e.preventDefault();reset();});
    var ui=document.createElement('div');ui.className='zoom-ui';
    [['+',0.7],['\u2212',1/0.7],['reset',0]].forEach(function(a){
      var bt=document.createElement('button');bt.type='button';bt.textContent=a[0];
      bt.setAttribute('aria-label',a[0]==='reset'?'reset zoom':'zoom '+(a[1]<1?'in':'out'));
      bt.addEventListener('click',function(){if(!a[1])reset();
        else zoom(a[1],{x:v.x+v.w/2,y:v.y+v.h/2});});ui.appendChild(bt);});
    svg.parentNode.insertBefore(ui,svg);
    svg.parentNode.insertBefore(tip,svg.nextSibling);
    rescale();
    window.addEventListener('resize',rescale);
  });
})();
